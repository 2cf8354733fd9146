// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-dot.c - placeholder, being written */
