"""retrowalk host tools: flash, pull, replay, report and plot for the retro-walking coach."""

__version__ = "0.1.0"
