/* SPDX-License-Identifier: GPL-2.0 */
/* Provider health (alarms) and device remediation (is each open device's KEK still usable?). */
#ifndef SKPD_HEALTH_H
#define SKPD_HEALTH_H

struct skpd;

void skpd_health_check(struct skpd *d);
void skpd_remediation_check(struct skpd *d);

#endif
