// SPDX-License-Identifier: LGPL-2.1-or-later
/* render-json.c - placeholder, being written */
