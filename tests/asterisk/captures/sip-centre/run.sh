#!/bin/sh
# One call of the SIP trial (captures README "The example centre with SIP phones"), on 127.0.0.1:
# the AMI recorder (../phone-hold/ami_log.py), the agent phones that answer, then the caller,
# a sipp UAC at :5170 calling 4008001234 at Asterisk's chan_pjsip on :5160. AMI_SECRET is the
# secret of the AMI user; ccf serve runs with the trial's ccf.toml beside it.
#   KEYS="6000:1 5000:2 400:0 ..." NUMBER=+14155550123 END=wait SECS=110 ./run.sh OUTDIR
cd "$(dirname "$0")"
OUT=${1:-out}
mkdir -p "$OUT"
python3 make_caller.py "$OUT/caller.xml" "${NUMBER:-+14155550123}" "${KEYS:-}" "${END:-wait}"
python3 ../phone-hold/ami_log.py 5039 "${SECS:-110}" "$OUT/ami.txt" &
LOG=$!
sleep 1
for ext in 1 2 3; do
    python3 make_phone.py "$OUT/agent-800$ext.xml" "800$ext" "${RING:-3000}" "bye:${TALK:-6000}"
    sipp -sf "$OUT/agent-800$ext.xml" -i 127.0.0.1 -p "517$ext" -mp "6${ext}00" -m 1 -bg \
        -trace_msg -message_file "$OUT/agent-800$ext-sip.log" > "$OUT/agent-800$ext.out" 2>&1
done
sleep 0.5
sipp -sf "$OUT/caller.xml" -i 127.0.0.1 -p 5170 -mp 6000 -m 1 -s 4008001234 127.0.0.1:5160 \
    -trace_msg -message_file "$OUT/caller-sip.log" -nostdin > "$OUT/caller.out" 2>&1
wait $LOG
