//! Proxy: the fault proxy relay (filled in next).

import Faults
