#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bad input from userspace (tests/clients/stress-client.c, raw PCM ioctls on hw:0,0):
#   params   every out-of-range hw_params value of each family (rate, channels, format,
#            access, subformat, period size/bytes/time, buffer size/bytes/time, periods,
#            empty or open intervals) gives EINVAL from HW_REFINE and HW_PARAMS and leaves
#            the substream OPEN; every in-range extreme (rate and channels min/max, each
#            format, smallest/largest period, largest/smallest buffer, fewest/most periods)
#            configures, prepares, starts and moves the position;
#   states   ioctls in the wrong state give the ALSA core's errno (EBADFD, EPIPE, EBUSY,
#            EINVAL, EFAULT, ENOSYS/EBADFD for RESUME, ENXIO, ENOTTY), playback and capture,
#            RW and mmap access, appl_ptr moves through SYNC_PTR, RESET while running (after
#            two buffers) and 1 s of writes after it, DRAIN and PREPARE while paused, DRAIN of
#            half a period (a sound shorter than a period must still play), close while
#            running;
# then the kernel log has no warning. One KTAP result per check, named without device
# numbers, so that the run of the C driver (bench.driver=c) compares line by line.
. /tests/lib.sh
. /tests/stress-lib.sh

# The plan is the script's own: how many checks each mode of stress-client makes against
# QEMU's virtio-sound-pci of scripts/versions.env (one playback and one capture stream).
# A client or device that makes fewer (or more) fails the run through the plan.
PARAMS_CHECKS=112
STATES_CHECKS=124
ktap_plan $((PARAMS_CHECKS + STATES_CHECKS + 4))
stress_load
wait_for_card 5 || exit 1
dmesg_mark stress-errno
# Status 0: every check passed; 1: some failed (their lines say which); anything else (a
# crash, the 300 s timeout's SIGKILL) is a failure of its own.
timeout -s KILL 300 stress-client params 0 0 >/tmp/params.out 2>&1
params_rc=$?
timeout -s KILL 120 stress-client states 0 0 >/tmp/states.out 2>&1
states_rc=$?
client_ktap /tmp/params.out
client_ktap /tmp/states.out
[ $params_rc -le 1 ]
ktap_result $? "stress-client params ran to its end" "exit status $params_rc, $(client_count /tmp/params.out) checks"
[ $states_rc -le 1 ]
ktap_result $? "stress-client states ran to its end" "exit status $states_rc, $(client_count /tmp/states.out) checks"
ktap_check "the card is still there" wait_for_card 1
ktap_check "no warning in dmesg" dmesg_clean stress-errno
ktap_finish
exit $?
