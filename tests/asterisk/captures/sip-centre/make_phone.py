"""Writes a sipp answering phone for the SIP trial (an agent, the supervisor, a customer rung by
a call-back): rings for RING ms (180), answers with PCMU and telephone-event, then hangs up
after MS (`bye:MS`) or waits for Asterisk's BYE (`wait`). One call; run sipp with -m N for more.
  python3 make_phone.py OUT.xml USER RING [bye:MS | wait]"""
import sys

ACTION = """
    <action>
      <ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
    </action>"""
HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="phone {user}">
  <recv request="INVITE">
    <action>
      <ereg regexp="sip:[^&gt;]*" search_in="hdr" header="Contact:" assign_to="contact"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="remote"/>
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
    </action>
  </recv>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="{ring}"/>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendrecv
    ]]>
  </send>
  <recv request="ACK"/>
"""
WAIT = """  <recv request="BYE" timeout="600000"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""
BYE = """  <pause milliseconds="{talk}"/>
  <send retrans="500">
    <![CDATA[
      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From:[$me];tag=[pid]SIPpTag01[call_number]
      To:[$remote]
      Call-ID: [call_id]
      CSeq: 1 BYE
      Contact: <sip:{user}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""


def main(out: str, user: str, ring: str, end: str = "wait") -> None:
    text = HEAD.replace("{user}", user).replace("{ring}", str(int(ring)))
    if end == "wait":  # sipp refuses a variable it sets and never reads
        text = text.replace(ACTION, "")
        text += WAIT.replace("{user}", user)
    else:
        text += BYE.replace("{user}", user).replace("{talk}", str(int(end.split(":")[1])))
    open(out, "w").write(text)


if __name__ == "__main__":
    main(*sys.argv[1:])
