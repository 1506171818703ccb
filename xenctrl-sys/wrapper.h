/* What xm-rs binds: the control interface and the PV domain builder. */
#include <xenctrl.h>
#include <xenguest.h>
