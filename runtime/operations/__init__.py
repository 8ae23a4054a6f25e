"""The centre's operations: call store, recordings, voicemail, wrap-up, screen pop, reports,
the agents file, and the renderers of a call's trace and of tables.

Imports the interpreter core below it; must not import the simulator or Asterisk.
"""
