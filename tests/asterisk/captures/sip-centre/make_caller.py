"""Writes a sipp caller scenario for the SIP trial (docs/asterisk.md "Tried on Asterisk 22.10.1
with SIP phones"): INVITE to [service] with the caller's number in P-Asserted-Identity (the
endpoint trusts it, as a trunk's), PCMU and telephone-event/8000 (payload 101), then keys as
RFC 2833 events (make_dtmf.py's pcaps, written beside OUT.xml) after pauses, then either waits for
Asterisk's BYE or sends its own.
  python3 make_caller.py OUT.xml NUMBER "3000:1 9000:2 ..." [bye:MS | wait]"""
import os
import sys

from make_dtmf import press

HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller {number}">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      P-Asserted-Identity: <sip:{number}@[local_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""
KEY = """  <pause milliseconds="{pause}"/>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
"""
WAIT = """  <recv request="BYE" timeout="300000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:caller@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""
BYE = """  <pause milliseconds="{pause}"/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""




def main(out: str, number: str, keys: str, end: str = "wait") -> None:
    parts = [HEAD.replace("{number}", number)]
    for index, step in enumerate(keys.split()):
        pause, key = step.split(":")
        pcap = os.path.abspath(f"{out[:-4]}-key{index}.pcap")
        open(pcap, "wb").write(press(key, index))
        parts.append(KEY.format(pause=int(pause), pcap=pcap))
    parts.append(WAIT if end == "wait" else BYE.format(pause=int(end.split(":")[1])))
    open(out, "w").write("".join(parts))


if __name__ == "__main__":
    main(*sys.argv[1:])
