"""The Asterisk side of the runtime: the same flows over FastAGI and AMI.

Modules (one purpose each):
- agi: FastAGI framing and reply parsing, argument quoting (our own code:
  panoramisk 1.4's FastAGI misreads Asterisk 22, see shared captures).
- agi_channel: runtime.core.channel.Channel over AGI commands.
- tts: text-to-speech rendered to sound files Asterisk plays, cached.
- ami: the AMI link (panoramisk's Manager where it is right), reconnect
  with backoff, resynchronisation, actions with their replies.
- ami_centre: the CentreView mirrored from AMI events (a routing AgentPool).
- config: ccf.toml, validated with its JSON Schema; secrets from the
  environment.
- flowstore: versioned bundles of compiled flows; deploy, rollback, list.
- dialplan: the extensions.conf / queues.conf text a deployment applies.
- server: `ccf serve`: FastAGI server, calls, graceful shutdown.
- peer: stand-ins for Asterisk in tests and benchmarks (a FastAGI client
  with a scripted caller, an AMI server).
"""
