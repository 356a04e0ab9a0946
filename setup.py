from setuptools import find_packages, setup

setup(
    name="manne",
    version="0.1.0",
    description="Real-time neural timbre synthesizer: train on your recordings, play live",
    long_description=open("README.md").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["manne", "manne.*"]),
    python_requires=">=3.10",
    install_requires=[
        "numpy>=1.24",
        "scipy>=1.10",
        "soundfile>=0.12",
        "tqdm>=4.60",
        "librosa>=0.10",
        "threadpoolctl>=3.1",
        "matplotlib>=3.7",
        "keras>=3.5",
        "tensorflow-cpu>=2.16; sys_platform=='linux' and platform_machine=='x86_64'",
        "tensorflow>=2.16; sys_platform!='linux' or platform_machine!='x86_64'",
    ],
    extras_require={
        "audio": ["pyaudio>=0.2.13"],
        # the demo corpora and the tests' instrument recordings (tools/soundfont) write MIDI with mido
        "soundfont": ["mido>=1.3"],
        # MIDI in (mido with python-rtmidi: manylinux/macOS/Windows wheels) and OSC in (python-osc, pure Python)
        "control": ["mido>=1.3", "python-rtmidi>=1.5", "python-osc>=1.8"],
        # the test suite and the development tools, from the registry like everything else (pyflakes: unused names)
        "test": ["pytest>=7", "pyflakes>=4.1", "mido>=1.3", "python-rtmidi>=1.5", "python-osc>=1.8"],
    },
    entry_points={"console_scripts": ["manne=manne.cli:main"]},
)
