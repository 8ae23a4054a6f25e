"""The Asterisk side of the runtime: the same flows over FastAGI and AMI.

Must not import the simulator or the testing floor. Modules, one job each:
agi (FastAGI framing), agi_line / agi_media / agi_agents / agi_channel (the
Channel over AGI), tts, ami_protocol / ami (the AMI link), ami_centre (the
centre mirrored from AMI), config (ccf.toml), flowstore, dialplan, deploy,
server and service (`ccf serve`).
"""
