"""The centre's operations: call store, recordings, voicemail, wrap-up, screen pop, reports.

Imports the interpreter core below it; must not import the simulator or Asterisk.
"""
