// Interop: the same devnet checks as devnet.test.js, with xrpl.js v5 (npm alias xrpl5).
// Usage: node devnet-xrpl5.test.js <path-to-sashimono>
'use strict';
process.env.XRPL_PKG = 'xrpl5';
require('./devnet.test.js');
