"""Prompt audio for channels that cannot speak text (Asterisk): every prompt of every menu
rendered offline with espeak-ng to 8 kHz WAV files, recorded prompts taking precedence."""
