"""The timbre space of a trained model: landmarks of its recordings, morphs, timbre transfer,
descriptor maps and descriptor-driven synthesis (after IRCAM ACIDS' timbre-space work)."""
