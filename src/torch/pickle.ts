/**
 * A pickle virtual machine covering what torch.save writes (protocol 2) plus the common protocol 3-5 opcodes.
 *
 * Python values map to JavaScript as: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list and tuple -> array, dict -> Map, set -> Set.
 * Globals come only from the caller's `findClass`, so a file can never name code we did not choose to run.
 */
import { unsupportedCheckpoint } from "./errors";

/** A Python global (class or function) the caller agreed to provide; `call` serves REDUCE and NEWOBJ. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    private readonly fn?: (args: unknown[]) => unknown,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }

  call(args: unknown[]): unknown {
    if (!this.fn) throw unsupportedCheckpoint(`class ${this.qualifiedName} cannot be called`);
    return this.fn(args);
  }
}

/** Objects built by a PyGlobal may accept BUILD state the way Python's __setstate__ does. */
export interface SettableState {
  __setstate__(state: unknown): void;
}

export interface PickleHooks {
  /** Returns the global for module.name, or undefined when it is not allowed (the VM then raises). */
  findClass(module: string, name: string): PyGlobal | undefined;
  /** Resolves a persistent id (torch uses these to point at tensor storages). */
  persistentLoad?(pid: unknown): unknown;
}

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode, where a following pickle in the same stream starts. */
  end: number;
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK", 0x2e: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
  0x4a: "BININT", 0x4b: "BININT1", 0x4c: "LONG", 0x4d: "BININT2", 0x4e: "NONE", 0x50: "PERSID",
  0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
  0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
  0x7d: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6a: "LONG_BINGET",
  0x6c: "LIST", 0x5d: "EMPTY_LIST", 0x6f: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
  0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
  0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
  0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS",
  0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
  0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
};

export function opcodeLabel(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, "0")}`;
  return `${hex} ${OPCODE_NAMES[code] ?? "(not a pickle opcode)"}`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Little-endian two's complement integer of any width, as Python's LONG1/LONG4 encode it. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

function isSettable(obj: unknown): obj is SettableState {
  return typeof obj === "object" && obj !== null && typeof (obj as SettableState).__setstate__ === "function";
}

/** Runs one pickle starting at `start` and returns its value and where it ended. */
export function unpickle(bytes: Uint8Array, hooks: PickleHooks, start = 0): UnpickleResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();

  const need = (n: number): void => {
    if (pos + n > bytes.length) throw unsupportedCheckpoint(`pickle truncated at byte ${pos}`);
  };
  const u8 = (): number => (need(1), bytes[pos++]);
  const u16 = (): number => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = (): number => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = (): number => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u64 = (): number => {
    need(8);
    const n = view.getBigUint64(pos, true);
    pos += 8;
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw unsupportedCheckpoint(`pickle length ${n} too large`);
    return Number(n);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = (): string => {
    const endOfLine = bytes.indexOf(0x0a, pos);
    if (endOfLine < 0) throw unsupportedCheckpoint(`pickle truncated at byte ${pos}`);
    const text = Buffer.from(bytes.subarray(pos, endOfLine)).toString("latin1");
    pos = endOfLine + 1;
    return text;
  };
  const text = (n: number): string => utf8.decode(take(n));
  const pop = (): unknown => {
    if (stack.length === 0) throw unsupportedCheckpoint(`pickle stack underflow at byte ${pos - 1}`);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) throw unsupportedCheckpoint(`pickle stack underflow at byte ${pos - 1}`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const previous = marks.pop();
    if (!previous) throw unsupportedCheckpoint(`pickle MARK missing at byte ${pos - 1}`);
    stack = previous;
    return items;
  };
  const memoGet = (index: number): unknown => {
    if (!memo.has(index)) throw unsupportedCheckpoint(`pickle memo entry ${index} missing`);
    return memo.get(index);
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const found = hooks.findClass(module, name);
    if (!found) throw unsupportedCheckpoint(`unsupported class ${module}.${name}`);
    return found;
  };
  const callable = (value: unknown, opcode: string): PyGlobal => {
    if (!(value instanceof PyGlobal)) throw unsupportedCheckpoint(`${opcode} on something that is not a class`);
    return value;
  };
  const asDict = (value: unknown, opcode: string): Map<unknown, unknown> => {
    if (!(value instanceof Map)) throw unsupportedCheckpoint(`${opcode} on something that is not a dict`);
    return value;
  };
  const setItems = (dict: Map<unknown, unknown>, items: unknown[]): void => {
    for (let i = 0; i + 1 < items.length; i += 2) dict.set(items[i], items[i + 1]);
  };
  const appendAll = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) throw unsupportedCheckpoint("APPEND on something that is not a list");
    for (const item of items) list.push(item);
  };
  const persistent = (pid: unknown): unknown => {
    if (!hooks.persistentLoad) throw unsupportedCheckpoint("persistent id found but no storage resolver given");
    return hooks.persistentLoad(pid);
  };

  for (;;) {
    const at = pos;
    const code = u8();
    switch (code) {
      case 0x80: // PROTO
        if (u8() > 5) throw unsupportedCheckpoint(`pickle protocol ${bytes[pos - 1]} at byte ${at}`);
        break;
      case 0x95: // FRAME: only a buffering hint, the opcodes follow inline.
        u64();
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        marks.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(decodeLong(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(decodeLong(take(u32())));
        break;
      case 0x47: // BINFLOAT: the one big-endian field in pickle.
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str, read as torch.load does with encoding utf-8)
        stack.push(text(i32()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: {
        // LIST
        const items = popMark(); // before reading `stack`, which popMark replaces
        stack.push(items);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const item = pop();
        appendAll(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendAll(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: {
        // DICT
        const dict = new Map<unknown, unknown>();
        setItems(dict, popMark());
        stack.push(dict);
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        asDict(top(), "SETITEM").set(key, value);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(asDict(top(), "SETITEMS"), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: {
        // ADDITEMS
        const items = popMark();
        const set = top();
        if (!(set instanceof Set)) throw unsupportedCheckpoint("ADDITEMS on something that is not a set");
        for (const item of items) set.add(item);
        break;
      }
      case 0x91: {
        // FROZENSET
        const items = popMark();
        stack.push(new Set(items));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x63: {
        // GLOBAL
        const module = line();
        stack.push(resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          throw unsupportedCheckpoint("STACK_GLOBAL with a module or name that is not a string");
        }
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = callable(pop(), "REDUCE");
        if (!Array.isArray(args)) throw unsupportedCheckpoint(`REDUCE of ${fn.qualifiedName} without an argument tuple`);
        stack.push(fn.call(args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = callable(pop(), "NEWOBJ");
        if (!Array.isArray(args)) throw unsupportedCheckpoint(`NEWOBJ of ${cls.qualifiedName} without an argument tuple`);
        stack.push(cls.call(args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop();
        const args = pop();
        const cls = callable(pop(), "NEWOBJ_EX");
        if (!Array.isArray(args) || !(kwargs instanceof Map) || kwargs.size > 0) {
          throw unsupportedCheckpoint(`NEWOBJ_EX of ${cls.qualifiedName} with keyword arguments`);
        }
        stack.push(cls.call(args));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const obj = top();
        if (isSettable(obj)) obj.__setstate__(state);
        // An OrderedDict's BUILD state is its instance attributes (a state_dict's _metadata: module
        // versions), which carry no tensor data; the items themselves arrive through SETITEMS.
        else if (!(obj instanceof Map)) throw unsupportedCheckpoint("BUILD on an object that takes no state");
        break;
      }
      case 0x51: // BINPERSID
        stack.push(persistent(pop()));
        break;
      case 0x50: // PERSID
        stack.push(persistent(line()));
        break;
      default:
        throw unsupportedCheckpoint(`unsupported pickle opcode ${opcodeLabel(code)} at byte ${at}`);
    }
  }
}
