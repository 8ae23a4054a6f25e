"""The console: the agents' desktop and the supervisors' wallboard, served by `ccf serve`.

A floor above the centre's operations; acts on the phones only through a CentreControl.
"""
