#!/bin/sh
# One phone-hold capture (captures README "A hold made on a SIP phone"), everything on 127.0.0.1:
# the AMI recorder, the agent phone 8001 (sipp UAS at :5171), the caller (sipp UAC at :5170)
# calling 8001 at Asterisk's chan_pjsip on :5160. AMI_SECRET is the secret of manager.conf's ccf.
#   AGENT=agent.xml CALLER=caller.xml DIAL=8001 SECS=16 ./run.sh OUTDIR
cd "$(dirname "$0")"
OUT=${1:-out}
mkdir -p "$OUT"
python3 ami_log.py 5039 "${SECS:-16}" "$OUT/ami.txt" &
LOG=$!
sleep 1
sipp -sf "${AGENT:-agent.xml}" -i 127.0.0.1 -p 5171 -mp 6100 -m 1 -bg \
    -trace_msg -message_file "$OUT/agent-sip.log" > "$OUT/agent.out" 2>&1
sleep 0.5
sipp -sf "${CALLER:-caller.xml}" -i 127.0.0.1 -p 5170 -mp 6000 -m 1 -s "${DIAL:-8001}" 127.0.0.1:5160 \
    -trace_msg -message_file "$OUT/caller-sip.log" -nostdin > "$OUT/caller.out" 2>&1
wait $LOG
