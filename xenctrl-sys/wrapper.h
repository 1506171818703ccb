/* What xm-rs binds: the control interface and the PV domain builder. */
#include <stdlib.h> /* free(): for the maps libxenctrl mallocs */
#include <xenctrl.h>
#include <xenguest.h>
