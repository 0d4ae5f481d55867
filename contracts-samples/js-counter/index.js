// js-counter: the counter sample in JavaScript on hotpocket-nodejs-contract (JSON protocol), plus an
// echo command, so it doubles as the JavaScript echo contract for benchmarks.
//
// Consensus runs — every input of every user, users in the runtime's order, each user's inputs in
// consensus order:
//   "echo <text>"  is answered "Echo: <text>" (checked on the raw input, before anything else)
//   "inc"          adds 1
//   "add N"        adds N (a decimal integer, may be negative; the counter is a signed 64-bit number)
//   other          is answered "error: unknown command"
// Surrounding whitespace is ignored for the counter commands. A command whose result would not fit
// in 64 bits is answered "error: overflow" and changes nothing. If the value changed, it is written
// atomically to the file "counter" in the working directory (the state directory: temp file, fsync,
// rename, fsync of the directory); then every user who sent at least one counter command (anything
// but "echo …") gets "counter: <value>". Same rules and same state file as the C++ counter sample.
// Read-only runs (read requests): "echo <text>" is answered "Echo: <text>", anything else
// "counter: <value>"; nothing is written.
//
// NPL (in a cluster): "npl <text>" makes every member's contract send <text> to the others on the
// node party line (ctx.unl.send) and wait (up to 20 s) until it heard from every UNL member;
// the sender is answered "npl: <text> from <k> of <n> members", the same on every member once
// all were heard.
//
// Outputs are sent as strings (user.send("counter: 5")); in JSON mode the library writes them as
// JSON strings. The program ends by itself once the contract function resolves (it never listens on
// NPL, which would keep the process alive until the runtime's execution timeout).
'use strict';

const fs = require('fs');
const HotPocket = require('hotpocket-nodejs-contract');

const COUNTER_FILE = 'counter';
const TEMP_FILE = 'counter.tmp';
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// The same whitespace as the C++ sample (String.prototype.trim also strips Unicode spaces).
function trim(s) {
    return s.replace(/^[ \t\r\n\v\f]+|[ \t\r\n\v\f]+$/g, '');
}

function inRange(v) {
    return v >= INT64_MIN && v <= INT64_MAX;
}

function loadCounter() {
    let text;
    try {
        text = fs.readFileSync(COUNTER_FILE, 'utf8');
    } catch (e) {
        if (e.code === 'ENOENT')
            return 0n; // fresh state
        throw e;
    }
    const t = trim(text);
    if (!/^[+-]?[0-9]+$/.test(t) || !inRange(BigInt(t)))
        throw new Error("state file 'counter' does not hold a number; not touching it");
    return BigInt(t);
}

// Writes the value so that a crash leaves either the old or the new file, never a torn one.
function storeCounter(value) {
    const fd = fs.openSync(TEMP_FILE, 'w', 0o644);
    try {
        const buf = Buffer.from(`${value}\n`);
        let done = 0;
        while (done < buf.length)
            done += fs.writeSync(fd, buf, done, buf.length - done);
        fs.fsyncSync(fd);
    } finally {
        fs.closeSync(fd);
    }
    fs.renameSync(TEMP_FILE, COUNTER_FILE);
    const dir = fs.openSync('.', 'r');
    try {
        fs.fsyncSync(dir);
    } finally {
        fs.closeSync(dir);
    }
}

// Returns {value} on success or {error} with the text to send back.
function apply(input, value) {
    const cmd = trim(input);
    let delta;
    if (cmd === 'inc') {
        delta = 1n;
    } else {
        const m = /^add[ \t]+([+-]?[0-9]+)$/.exec(cmd);
        if (!m)
            return { error: 'error: unknown command' };
        delta = BigInt(m[1]);
        if (!inRange(delta))
            return { error: 'error: overflow' };
    }
    const next = value + delta;
    if (!inRange(next))
        return { error: 'error: overflow' };
    return { value: next };
}

function echoText(input) {
    return input.startsWith('echo ') ? input.slice(5) : null;
}

async function contract(ctx) {
    let value = loadCounter();

    if (ctx.readonly) {
        for (const user of ctx.users.list()) {
            for (const input of user.inputs) {
                const text = (await ctx.users.read(input)).toString('utf8');
                const echo = echoText(text);
                await user.send(echo !== null ? `Echo: ${echo}` : `counter: ${value}`);
            }
        }
        return;
    }

    const before = value;
    const senders = [];
    const npl = [];  // [user, text] of "npl <text>" inputs, answered after the exchange
    for (const user of ctx.users.list()) {
        let counted = false;
        for (const input of user.inputs) {
            const text = (await ctx.users.read(input)).toString('utf8');
            const echo = echoText(text);
            if (echo !== null) {
                await user.send(`Echo: ${echo}`);
                continue;
            }
            if (text.startsWith('npl ')) {
                npl.push([user, text.slice(4)]);
                continue;
            }
            counted = true;
            const result = apply(text, value);
            if (result.error)
                await user.send(result.error);
            else
                value = result.value;
        }
        if (counted)
            senders.push(user);
    }
    if (value !== before)
        storeCounter(value);
    for (const user of senders)
        await user.send(`counter: ${value}`);
    if (npl.length > 0) {
        await exchange(ctx, npl);
        // Listening on NPL leaves a blocking read pending on its socket in Node's thread pool, which
        // keeps the process alive (even process.exit waits for it) until the runtime's execution
        // timeout. So the round ends the way the library's own forceTerminate does, by SIGINT, once
        // the library has finished (the outputs were awaited: they are written).
        setImmediate(() => process.kill(process.pid, 'SIGINT'));
    }
}

// Every member sends the round's NPL texts; each answers with how many members it heard them from.
async function exchange(ctx, requests) {
    const message = JSON.stringify(requests.map(([, text]) => text));
    const heard = new Set();
    const all = ctx.unl.count();
    const done = new Promise((resolve) => {
        const timer = setTimeout(resolve, 20000);
        ctx.unl.onMessage((node, msg) => {
            if (node && msg.toString('utf8') === message)
                heard.add(node.publicKey);
            if (heard.size === all) {
                clearTimeout(timer);
                resolve();
            }
        });
    });
    await ctx.unl.send(message);
    await done;
    for (const [user, text] of requests)
        await user.send(`npl: ${text} from ${heard.size} of ${all} members`);
}

const hpc = new HotPocket.Contract();
hpc.init(contract, HotPocket.clientProtocols.json);
