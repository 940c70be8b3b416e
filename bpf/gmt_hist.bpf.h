/* SPDX-License-Identifier: GPL-2.0-only */
/* src/model/hist.c includes this path: the histogram slot lives in lib/ now */
#include "lib/hist.bpf.h"
