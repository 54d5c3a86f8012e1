"""Errors of the Vosk adapter; all derive from the port's `ivr.speech.SpeechError`.

    SpeechError (ivr.speech)
     +-- SpeechConfigError   the `speech:` config section is invalid
     +-- ModelError          a model could not be found or loaded
     +-- GrammarError        a grammar is unusable (no phrase in the model's vocabulary)
     +-- SpeechTimeout       a recognition step did not finish in time
     +-- SessionClosed       audio fed to a session that is finished or closed
"""

from __future__ import annotations

from ivr.speech import SpeechError


class SpeechConfigError(SpeechError):
    pass


class ModelError(SpeechError):
    pass


class GrammarError(SpeechError):
    pass


class SpeechTimeout(SpeechError):
    pass


class SessionClosed(SpeechError):
    pass
