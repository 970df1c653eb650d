#!/bin/sh
# skp's dracut hook (initqueue/finished): the initqueue is done when skp-open.sh is (its
# entries open and skpd stopped), not as soon as the root device shows up.
[ -e /tmp/skp.done ]
