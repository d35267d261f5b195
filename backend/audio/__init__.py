"""Audio loading (any soundfile format → 16 kHz mono) and speech analysis for the engines."""
from .io import LoadedAudio, load_audio

__all__ = ["LoadedAudio", "load_audio", "analyze_speech"]


def __getattr__(name):
    # analysis pulls in scipy.ndimage and pocketsphinx lazily; loading audio alone stays light
    if name == "analyze_speech":
        from .analyze import analyze_speech
        return analyze_speech
    raise AttributeError(name)
