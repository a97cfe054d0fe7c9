/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by probe.S (the signed trampoline of trampoline_test) and
 * trampoline_test.c: the result layout, markers and offsets.  Plain
 * #defines only: included from assembly.
 */
#ifndef EPTGATE_PROBE_BLOB_H
#define EPTGATE_PROBE_BLOB_H

/* = EPTGATE_TRAMPOLINE_CODE_MAX / _PARAM_OFF (checked by the test). */
#define PROBE_CODE_MAX		0x4000
#define PROBE_PARAM_OFF		64
/* Qword of the private data page the probe counts its calls in. */
#define PROBE_COUNT_OFF		8

/*
 * The probe's marker: the same in the module's copy (view 1) and in the
 * read-only copy at code_gpa (view 0), which hold the same bytes.
 */
#define PROBE_MARKER_MODULE	0x50524f42452d4d44	/* "PROBE-MD" */
/* What the probe writes to the doorbell. */
#define PROBE_DOORBELL_VALUE	0xd00b

/* Result qwords (rdi points at PROBE_RES_NR of them). */
#define PROBE_RES_CANARY	0	/* data page qword 0 */
#define PROBE_RES_MARKER	1	/* PROBE_MARKER_* */
#define PROBE_RES_PARAM		2	/* data page, PROBE_PARAM_OFF */
#define PROBE_RES_COUNT		3	/* calls so far, data page */
#define PROBE_RES_AFTER_DB	4	/* canary again, after the doorbell */
#define PROBE_RES_NR		5

#endif /* EPTGATE_PROBE_BLOB_H */
