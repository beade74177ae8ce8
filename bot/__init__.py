"""Adapters that put the engine in front of people: command line, console, Telegram, HTTP."""
