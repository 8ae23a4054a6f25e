"""The centre's operations: call store, recordings, voicemail, wrap-up, screen pop, reports.

Imports the interpreter core below it; never the simulator or Asterisk.
"""
