// The emulated Pico: MicroPython's real rp2 image on rp2040js, wired like a board file.
//
//   node emu.mjs --image firmware.uf2 --bootrom bootrom.mjs --flash flash.img --trace trace.bin
//                --wiring '{"i2c": {...}, "traced": [15, 25], "button": {...}}'
//                [--button '[[t_ms, pressed], ...]'] [--chip RFD,WFD] [--cut-at-ms MS] [--profile FILE]
//                [--instant-bus] [--epoch N] [--control FD]
//
// Started by pico/board.py (PicoBoard), which owns the pty that mpremote opens and the chip
// process (chip.py). What this process does:
// - USB CDC <-> stdin/stdout: bytes from stdin are typed into the board, what the board sends
//   comes out on stdout (the host bridges them to the pty);
// - I2C: the board file's bus is answered byte by byte by the chip process (fds RFD/WFD): a
//   request per START/address/byte with the emulated time in it, the answer read at once (the
//   emulation waits for it), and the bus finishing the byte 9 SCL periods later at the rate the
//   firmware set, so a read costs the board what it would on a real bus (--instant-bus: no bus
//   time at all, to tell the bus's share of a cost from the CPU's);
// - flash writes reach the emulated flash and, at once, the flash file (the littlefs region),
//   so a power cut (SIGKILL) leaves in it exactly what the board had written; each erase and
//   program takes the flash chip's typical time of emulated time (the CPU waits) and is traced;
// - the button pin is driven from the script (edge times in ms from power-on; the boots after a
//   reset see no press) and by "press <ms>" lines on fd --control (held that long from the
//   emulated instant the line is read); every other pin reads back its pad (driven level or pull);
// - traced pins: what each drives (a SIO level, or a PWM duty from its slice's registers) is
//   written to the trace file in the virtual board's record format (vboard/board_side/vbfiles.py);
// - a watchdog expiry or machine.reset() reboots the board (the flash and the chip stay);
// - --cut-at-ms: the power goes at that emulated time after power-on (the process exits);
// - --profile: the program counter every 64 instructions, counted per address, written to FILE
//   ("<hex pc> <count>" lines, for pico/profile.py) when a boot ends;
// - events go to stderr as lines: "boot <cause>", "usb", "wdt", "reset", "stopped <reason>".
// Time is the emulated clock at 125 MHz: idle waits skip ahead (no alarm due: the emulation
// sleeps until the host types something), so it runs as fast as the host can emulate.
import fs from 'fs';
import net from 'net';
import { Simulator, USBCDC, ConsoleLogger, LogLevel, GPIOPinState } from 'rp2040js';

const T = { EPOCH: 1, BOOT: 2, PIN: 3, LEVEL: 4, PWM_DUTY: 6, OFF: 8, FIFO: 10, FLASH_ERASE: 11, FLASH_PROGRAM: 12 }; // vbfiles.T_*
// The Pico's flash chip (Winbond W25Q16JV), typical times: 4 KiB sector erase 45 ms, 256-byte
// page program 0.4 ms (the datasheet's maxima are 400 ms and 3 ms).
const ERASE_NS = 45e6, PROGRAM_NS = 0.4e6;
const PWRON_RESET = 1, HARD_RESET = 2, WDT_RESET = 3; // vbfiles reset causes
const FLASH_START = 0x10000000;
const FS_OFF = 0xa0000, FS_END = 0x200000; // RPI_PICO: the littlefs region, 1408 KiB
const CYCLE_NS = 1e9 / 125e6;
const FUNCTION_PWM = 4, FUNCTION_SIO = 5;

function parseArgs(argv) {
  const a = { button: [], chip: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = () => argv[++i];
    if (k === '--image') a.image = v();
    else if (k === '--bootrom') a.bootrom = v();
    else if (k === '--flash') a.flash = v();
    else if (k === '--trace') a.trace = v();
    else if (k === '--wiring') a.wiring = JSON.parse(v());
    else if (k === '--button') a.button = JSON.parse(v());
    else if (k === '--chip') a.chip = v().split(',').map(Number);
    else if (k === '--cut-at-ms') a.cutAtMs = Number(v());
    else if (k === '--profile') a.profile = v();
    else if (k === '--instant-bus') a.instantBus = true;
    else if (k === '--epoch') a.epoch = Number(v());
    else if (k === '--control') a.control = Number(v());
    else throw new Error(`unknown argument ${k}`);
  }
  for (const k of ['image', 'bootrom', 'flash', 'trace', 'wiring']) if (!a[k]) throw new Error(`--${k} is required`);
  return a;
}
const args = parseArgs(process.argv.slice(2));
const wiring = args.wiring;
const { bootromB1 } = await import(new URL(`file://${args.bootrom}`));
const say = (line) => process.stderr.write(line + '\n');
// rp2040js's own complaints (e.g. reads of SIO registers it does not model) as "note" lines
const notes = new ConsoleLogger(LogLevel.Error);
notes.error = (component, msg) => say(`note ${component}: ${msg}`);
// and its direct console output, kept off stdout (the board's serial line)
console.log = console.info = console.debug = console.warn = (...m) => say(`note ${m.join(' ')}`);

// ---- the image and the flash file ----------------------------------------------------------
const image = new Uint8Array(FS_OFF).fill(0xff); // everything below the filesystem
{
  const img = fs.readFileSync(args.image);
  for (let off = 0; off + 512 <= img.length; off += 512) {
    const b = img.subarray(off, off + 512);
    if (b.readUInt32LE(0) !== 0x0a324655 || b.readUInt32LE(4) !== 0x9e5d5157) continue; // UF2 magics
    const addr = b.readUInt32LE(12) - FLASH_START, size = b.readUInt32LE(16);
    if (addr + size > FS_OFF) throw new Error('the image reaches into the filesystem region');
    image.set(b.subarray(32, 32 + size), addr);
  }
}
const FS_SIZE = FS_END - FS_OFF;
if (!fs.existsSync(args.flash) || fs.statSync(args.flash).size !== FS_SIZE) {
  fs.writeFileSync(args.flash, Buffer.alloc(FS_SIZE, 0xff)); // erased: MicroPython formats it
}
const flashFd = fs.openSync(args.flash, 'r+');
const flashOps = { erase: 0, program: 0 };

// ---- the trace file ------------------------------------------------------------------------
const traceFd = fs.openSync(args.trace, 'a');
const rec = Buffer.alloc(16);
let epoch = args.epoch || 0, boot = 0; // trace epochs go on from --epoch (earlier power-ons)
function trace(kind, index, value, tUs) {
  rec.writeBigInt64LE(BigInt(Math.floor(tUs)), 0);
  rec.writeUInt8(kind, 8);
  rec.writeUInt8(index, 9);
  rec.writeUInt16LE(boot & 0xffff, 10);
  rec.writeInt32LE(value, 12);
  fs.writeSync(traceFd, rec);
}
function tracePinName(index, name) {
  trace(T.PIN, index, 0, 0);
  const n = Buffer.alloc(16);
  n.write(name);
  fs.writeSync(traceFd, n);
}

// ---- the chip process ----------------------------------------------------------------------
// Request: op (S start, C connect, W write, R read, P stop), arg byte, f64 chip time in us.
// Answer: value byte (ack 1/0, or the byte read), i32 FIFO samples read out before this read
// of FIFO_STATUS1 (-1: not such a read).
const req = Buffer.alloc(10), ans = Buffer.alloc(5);
let chipUs0 = 0; // chip time at this boot's clock zero: the chip runs on through MCU resets
const stats = { busyCycles: 0, i2c: 0, t0: Date.now() };
const prof = args.profile ? new Map() : null;
let profTick = 0;
function ask(op, arg, clock) {
  stats.i2c += 1;
  if (!args.chip) return { value: op === 'R' ? 0xff : 0, fifo: -1 };
  req.writeUInt8(op.charCodeAt(0), 0);
  req.writeUInt8(arg & 0xff, 1);
  req.writeDoubleLE(Math.floor(chipUs0 + clock.nanos / 1000), 2);
  fs.writeSync(args.chip[1], req);
  let got = 0;
  while (got < 5) {
    const n = fs.readSync(args.chip[0], ans, got, 5 - got, null);
    if (n === 0) { say('stopped chip process gone'); process.exit(3); }
    got += n;
  }
  return { value: ans.readUInt8(0), fifo: ans.readInt32LE(1) };
}

// ---- one boot of the board -----------------------------------------------------------------
let sim = null, mcu = null, clock = null, cdc = null;
let pendingIn = []; // bytes typed by the host, waiting for room in the CDC FIFO
let heldRead = null, usbRead = null;
let rebootCause = 0; // set by the watchdog hook: reboot at the end of this slice
let stepping = false;

function start(cause, lastReason) {
  sim = new Simulator();
  mcu = sim.rp2040;
  clock = sim.clock;
  mcu.logger = notes;
  epoch += 1;
  boot += 1;
  trace(T.EPOCH, 0, epoch, 0);
  trace(T.BOOT, 0, cause, 0);
  patchBootrom();
  mcu.flash.set(image, 0);
  const fsData = Buffer.alloc(FS_SIZE);
  fs.readSync(flashFd, fsData, 0, FS_SIZE, 0);
  mcu.flash.set(fsData, FS_OFF);
  const wd = mcu.peripherals[0x40058];
  wd.reason = lastReason; // machine.reset_cause() after a watchdog or forced reset
  wd.onWatchdogTrigger = () => {
    wd.alarm.enable = false;
    wd.timer.enable = false;
    rebootCause = wd.reason === 2 ? HARD_RESET : WDT_RESET;
    say(rebootCause === WDT_RESET ? 'wdt' : 'reset');
  };
  attachI2C();
  attachPins();
  attachUSB();
  if (args.cutAtMs !== undefined && boot === 1) {
    clock.createAlarm(() => { say('stopped power cut'); process.exit(0); }).schedule(args.cutAtMs * 1e6);
  }
  say(`boot ${cause}`);
  mcu.core.PC = FLASH_START;
}

function patchBootrom() {
  // rp2040js has no QSPI flash command model: the bootrom's flash_range_erase ('RE') and
  // flash_range_program ('RP') become `bkpt #n; bx lr`, carried out here on the emulated flash
  // and written through to the flash file.
  const rom = new Uint32Array(bootromB1);
  const rom8 = new Uint8Array(rom.buffer), rom16 = new Uint16Array(rom.buffer);
  const fn = {};
  for (let p = rom16[0x14 / 2]; rom16[p / 2]; p += 4) fn[String.fromCharCode(rom8[p], rom8[p + 1])] = rom16[p / 2 + 1] & ~1;
  const BK = { RE: 0xe0, RP: 0xe1 };
  for (const [name, code] of Object.entries(BK)) { rom16[fn[name] / 2] = 0xbe00 | code; rom16[fn[name] / 2 + 1] = 0x4770; }
  mcu.loadBootrom(rom);
  mcu.onBreak = (code) => {
    const r = mcu.core.registers;
    let lo, hi, kind, ns;
    if (code === BK.RE) { // (addr, count, block_size, block_cmd)
      lo = r[0]; hi = r[0] + r[1];
      mcu.flash.fill(0xff, lo, hi);
      flashOps.erase += r[1];
      kind = T.FLASH_ERASE; ns = Math.ceil(r[1] / 4096) * ERASE_NS;
    } else if (code === BK.RP) { // (addr, data, count): programming only clears bits
      lo = r[0]; hi = r[0] + r[2];
      for (let i = 0; i < r[2]; i++) mcu.flash[r[0] + i] &= mcu.readUint8(r[1] + i);
      flashOps.program += r[2];
      kind = T.FLASH_PROGRAM; ns = Math.ceil(r[2] / 256) * PROGRAM_NS;
    } else {
      say(`stopped breakpoint ${code} at pc=0x${r[15].toString(16)}`);
      process.exit(3);
    }
    const t = clock.nanos / 1000;
    lo = Math.max(lo, FS_OFF); hi = Math.min(hi, FS_END);
    if (hi > lo) fs.writeSync(flashFd, mcu.flash, lo, hi - lo, lo - FS_OFF);
    trace(kind, 0, hi - lo, t);
    // The CPU waits while the flash chip works (code runs from that flash; the rp2 port
    // also masks interrupts around the call).
    stats.busyCycles += ns / CYCLE_NS;
    clock.tick(ns);
  };
}

function attachI2C() {
  // The board's IMU bus, answered by the chip process. Each step of a transfer finishes after
  // its bus time: START and STOP one SCL period, the address and each byte nine (8 bits + ACK).
  const i2c = mcu.i2c[wiring.i2c.bus];
  const period = () => (args.instantBus ? 0 : (i2c.sclLowPeriod + i2c.sclHighPeriod) * CYCLE_NS);
  const later = (bits, fn) => { const a = clock.createAlarm(fn); a.schedule(bits * period()); };
  const fifo = (f) => { if (f >= 0) trace(T.FIFO, 0, f, clock.nanos / 1000); };
  i2c.onStart = () => { ask('S', 0, clock); later(1, () => i2c.completeStart()); };
  i2c.onConnect = (addr, mode) => {
    const a = ask('C', (addr << 1) | mode, clock);
    later(9, () => i2c.completeConnect(a.value === 1));
  };
  i2c.onWriteByte = (v) => { const a = ask('W', v, clock); later(9, () => i2c.completeWrite(a.value === 1)); };
  i2c.onReadByte = () => { const a = ask('R', 0, clock); fifo(a.fifo); later(9, () => i2c.completeRead(a.value)); };
  i2c.onStop = () => { ask('P', 0, clock); later(1, () => i2c.completeStop()); };
}

let press = null; // press(ms): the button pressed now for ms of emulated time
const pads = [];
function attachPins() {
  const bus = new Set([wiring.i2c.sda, wiring.i2c.scl]);
  const b = wiring.button;
  let pressed = false;
  press = (ms) => {
    if (!b) return;
    pressed = true; pads[b.pin]();
    clock.createAlarm(() => { pressed = false; pads[b.pin](); }).schedule(ms * 1e6);
  };
  // The pad: a pin reads back what it drives, else its pull (rp2040js alone reads only what the
  // outside set); the button pin reads the pressed level while pressed.
  mcu.gpio.forEach((g, idx) => {
    if (bus.has(idx)) { g.setInputValue(true); return; } // pulled-up bus lines, idle high
    const pad = () => {
      let lvl;
      if (b && idx === b.pin && pressed) lvl = !b.active_low;
      else {
        const v = g.value;
        lvl = v === GPIOPinState.High || v === GPIOPinState.InputPullUp ||
          (v === GPIOPinState.InputBusKeeper && g.rawInputValue) ||
          (b && idx === b.pin && b.external_pull && b.active_low);
      }
      if (g.rawInputValue !== lvl) g.setInputValue(lvl);
    };
    g.addListener(pad);
    pads[idx] = pad;
    pad();
    if (b && idx === b.pin && boot === 1) {
      for (const [tMs, down] of args.button) {
        clock.createAlarm(() => { pressed = !!down; pad(); }).schedule(tMs * 1e6);
      }
    }
  });
  // What each traced pin drives, 0..65535: a PWM duty (its slice's CC over TOP + 1 while the
  // slice runs) or a SIO output level; 0 while it drives nothing.
  const drive = (pin) => {
    const g = mcu.gpio[pin];
    if (g.functionSelect === FUNCTION_PWM) {
      const ch = mcu.pwm.channels[(pin >> 1) & 7];
      if (!(ch.csr & 1)) return 0;
      const cc = pin & 1 ? ch.cc >>> 16 : ch.cc & 0xffff;
      return Math.round(65535 * Math.min(cc, ch.top + 1) / (ch.top + 1));
    }
    if (g.functionSelect === FUNCTION_SIO && g.outputEnable) return g.outputValue ? 65535 : 0;
    return 0;
  };
  const last = {};
  const check = () => {
    for (const pin of wiring.traced) {
      const d = drive(pin);
      if (d === last[pin]) continue;
      last[pin] = d;
      const isPwm = mcu.gpio[pin].functionSelect === FUNCTION_PWM;
      trace(isPwm ? T.PWM_DUTY : T.LEVEL, pin, isPwm ? d : (d ? 1 : 0), clock.nanos / 1000);
    }
  };
  for (const pin of wiring.traced) {
    tracePinName(pin, String(pin));
    last[pin] = 0;
    mcu.gpio[pin].addListener(check);
  }
  const pwm = mcu.pwm, write = pwm.writeUint32.bind(pwm);
  pwm.writeUint32 = (offset, value) => { write(offset, value); check(); };
}

function attachUSB() {
  cdc = new USBCDC(mcu.usbCtrl);
  // A real USB host NAKs an OUT transfer until it has data; rp2040js's USBCDC completes every
  // read at once with 0 bytes, and the firmware re-arms it: an interrupt storm. Hold the read
  // until there is something to send.
  usbRead = mcu.usbCtrl.onEndpointRead;
  heldRead = null;
  mcu.usbCtrl.onEndpointRead = (ep, size) => {
    if (ep === cdc.outEndpoint && cdc.txFIFO.empty) heldRead = [ep, size];
    else usbRead(ep, size);
  };
  cdc.onDeviceConnected = () => say('usb');
  cdc.onSerialData = (buf) => process.stdout.write(Buffer.from(buf));
}

// ---- running -------------------------------------------------------------------------------
let wake = null;
process.stdin.on('data', (chunk) => {
  for (const c of chunk) pendingIn.push(c);
  if (wake) { const w = wake; wake = null; w(); }
});
process.stdin.on('end', () => { say('stopped host gone'); finish(0); });
if (args.control !== undefined) {
  let acc = '';
  // a libuv pipe handle (a stream on the fd would block a thread-pool thread in read(), and an
  // exit would then wait for it)
  new net.Socket({ fd: args.control, readable: true, writable: false }).on('data', (chunk) => {
    acc += chunk.toString();
    let i;
    while ((i = acc.indexOf('\n')) >= 0) {
      const [cmd, arg] = acc.slice(0, i).split(' ');
      acc = acc.slice(i + 1);
      if (cmd === 'press') press(Number(arg));
    }
    if (wake) { const w = wake; wake = null; w(); }
  });
}
process.on('SIGTERM', () => { say('stopped SIGTERM'); finish(0); });

function feedUSB() {
  while (pendingIn.length && cdc.txFIFO.itemCount < 512) cdc.sendSerialByte(pendingIn.shift());
  if (heldRead && !cdc.txFIFO.empty) { const [ep, size] = heldRead; heldRead = null; usbRead(ep, size); }
}

function slice() {
  // About 200,000 instructions or idle skips, then back to the event loop (host input, output).
  feedUSB();
  const core = mcu.core;
  for (let i = 0; i < 200000 && !rebootCause; i++) {
    if (core.waiting) {
      const n = clock.nanosToNextAlarm;
      if (n <= 0 && !clock.nextAlarm) { // nothing due: only the host can wake the board
        wake = () => setImmediate(slice);
        return;
      }
      clock.tick(n);
      i += n / CYCLE_NS;
    } else {
      if (prof && (++profTick & 63) === 0) { const pc = core.PC; prof.set(pc, (prof.get(pc) || 0) + 1); }
      const c = core.executeInstruction();
      stats.busyCycles += c;
      clock.tick(c * CYCLE_NS);
    }
  }
  if (rebootCause) {
    const cause = rebootCause;
    sayStats();
    rebootCause = 0;
    trace(T.OFF, 0, cause, clock.nanos / 1000);
    chipUs0 += clock.nanos / 1000;
    pendingIn = []; // the USB device went away
    start(cause, cause === HARD_RESET ? 2 : 1);
  }
  setImmediate(slice);
}

function sayStats() {
  // per boot: emulated time, busy share of it, I2C requests, host wall time
  const t = clock.nanos / 1e9, wall = (Date.now() - stats.t0) / 1000;
  say(`stats t=${t.toFixed(3)}s busy=${(stats.busyCycles / 125e6 / t * 100).toFixed(1)}% ` +
      `i2c=${stats.i2c} wall=${wall.toFixed(1)}s flash_erased=${flashOps.erase} flash_programmed=${flashOps.program}`);
  stats.busyCycles = 0; stats.i2c = 0; stats.t0 = Date.now();
  if (prof) fs.writeFileSync(args.profile, [...prof].map(([pc, n]) => `${pc.toString(16)} ${n}`).join('\n') + '\n');
}

function finish(code) {
  sayStats();
  fs.closeSync(flashFd);
  process.exit(code);
}

start(PWRON_RESET, 0);
slice();
