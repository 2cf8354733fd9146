// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-text.c - placeholder, being written */
