/* What xm-rs binds: the control interface and the PV domain builder. */
#include <stdio.h> /* stderr, for libxentoollog's logger */
#include <stdlib.h> /* free(): for the maps libxenctrl mallocs */
#include <xenctrl.h>
#include <xenguest.h>
#include <xentoollog.h>
