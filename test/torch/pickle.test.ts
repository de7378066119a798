import { torchPickleHooks } from "../../src/torch/rebuild";
import { PickleHooks, PyGlobal, unpickle } from "../../src/torch/pickle";

/** Pickle bytes written by hand; each string is latin1, one character per byte. */
const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "latin1"));
const noGlobals: PickleHooks = { findClass: () => undefined };
const load = (text: string, hooks: PickleHooks = noGlobals): unknown => unpickle(bytes(text), hooks).value;

describe("unpickle known answers", () => {
  test("list built with MARK and APPENDS", () => {
    expect(load("\x80\x02]q\x00(K\x01K\x02e.")).toEqual([1, 2]);
  });

  test("dict built with SETITEMS keeps insertion order", () => {
    const dict = load("\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00bM\x00\x01u.");
    expect(dict).toEqual(new Map<string, number>([["a", 1], ["b", 256]]));
    expect([...(dict as Map<string, number>).keys()]).toEqual(["a", "b"]);
  });

  test("tuples of every width", () => {
    expect(load("\x80\x02(K\x01)K\x02\x85K\x03K\x04\x86K\x05K\x06K\x07\x87(K\x08K\x09tt.")).toEqual([
      1, [], [2], [3, 4], [5, 6, 7], [8, 9],
    ]);
  });

  test("memo entries are the same object, by BINGET and LONG_BINGET", () => {
    const value = load("\x80\x02]q\x00K\x07ah\x00r\x2c\x01\x00\x00j\x2c\x01\x00\x00\x87.") as unknown[][];
    expect(value).toEqual([[7], [7], [7]]);
    expect(value[1]).toBe(value[0]);
    expect(value[2]).toBe(value[0]);
  });

  test("ints of each width, negative and beyond 2^53", () => {
    const text =
      "\x80\x02(K\xffM\xff\xffJ\xff\xff\xff\xffJ\x00\x00\x00\x80\x8a\x00\x8a\x01\xff\x8a\x02\x00\x01" +
      "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x01\x8b\x03\x00\x00\x00\x01\x02\x03t.";
    expect(load(text)).toEqual([255, 65535, -1, -2147483648, 0, -1, 256, 72057594037927936n, 197121]);
  });

  test("the legacy magic number is an exact bigint", () => {
    expect(load("\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")).toBe(0x1950a86a20f9469cfc6cn);
  });

  test("big-endian doubles", () => {
    expect(load("\x80\x02(G?\xf8\x00\x00\x00\x00\x00\x00G\xc0\x09!\xfbTD-\x18t.")).toEqual([1.5, -3.141592653589793]);
  });

  test("strings and bytes of each width", () => {
    const text =
      "\x80\x03(U\x02hiX\x02\x00\x00\x00\xc3\xa9\x8c\x01z\x8d\x01\x00\x00\x00\x00\x00\x00\x00y" +
      "C\x02\x00\xffB\x01\x00\x00\x00\x07T\x01\x00\x00\x00st.";
    expect(load(text)).toEqual(["hi", "é", "z", "y", new Uint8Array([0, 255]), new Uint8Array([7]), "s"]);
  });

  test("None, True, False", () => {
    expect(load("\x80\x02(N\x88\x89t.")).toEqual([null, true, false]);
  });

  test("protocol 4: FRAME, MEMOIZE, STACK_GLOBAL and REDUCE through the resolver", () => {
    const body = "\x8c\x05mymod\x94\x8c\x03add\x94\x93\x94K\x02K\x03\x86\x94R\x94h\x03\x86.";
    const frameLength = String.fromCharCode(body.length) + "\x00".repeat(7);
    const asked: string[] = [];
    const hooks: PickleHooks = {
      findClass: (module, name) => {
        asked.push(`${module}.${name}`);
        return new PyGlobal(module, name, (args) => (args[0] as number) + (args[1] as number));
      },
    };
    // Memo 3 holds the argument tuple, so the result is (2 + 3, (2, 3)).
    expect(load(`\x80\x04\x95${frameLength}${body}`, hooks)).toEqual([5, [2, 3]]);
    expect(asked).toEqual(["mymod.add"]);
  });

  test("BUILD hands the state to __setstate__", () => {
    class Box {
      state: unknown;
      __setstate__(state: unknown): void {
        this.state = state;
      }
    }
    const hooks: PickleHooks = { findClass: (m, n) => new PyGlobal(m, n, () => new Box()) };
    const box = load("\x80\x02cmymod\nBox\n)\x81}X\x01\x00\x00\x00vK\x05sb.", hooks) as Box;
    expect(box).toBeInstanceOf(Box);
    expect(box.state).toEqual(new Map([["v", 5]]));
  });

  test("BINPERSID goes to persistentLoad", () => {
    const hooks: PickleHooks = { ...noGlobals, persistentLoad: (pid) => `loaded ${String(pid)}` };
    expect(load("\x80\x02X\x03\x00\x00\x00keyQ.", hooks)).toBe("loaded key");
  });

  test("end points past STOP so pickles in one stream can be read in turn", () => {
    const stream = bytes("\x80\x02K\x01.\x80\x02K\x02.");
    const first = unpickle(stream, noGlobals);
    expect(first).toEqual({ value: 1, end: 5 });
    expect(unpickle(stream, noGlobals, first.end)).toEqual({ value: 2, end: 10 });
  });
});

describe("unpickle errors", () => {
  test("an unsupported opcode is named in hex and by name", () => {
    expect(() => load("\x80\x05\x97.")).toThrow(/0x97 NEXT_BUFFER.*not a supported PyTorch checkpoint/);
    expect(() => load("I1\n.")).toThrow(/0x49 INT at byte 0.*not a supported PyTorch checkpoint/);
    expect(() => load("\x80\x02\xff.")).toThrow(/0xff \(not a pickle opcode\)/);
  });

  test("a class the resolver refuses is named as module.name", () => {
    expect(() => load("\x80\x02cos\nsystem\n)R.")).toThrow(/unsupported class os\.system.*not a supported PyTorch checkpoint/);
    const hooks = torchPickleHooks(new Map());
    expect(() => load("\x80\x02cnumpy.core.multiarray\nscalar\n)R.", hooks)).toThrow(
      /numpy\.core\.multiarray\.scalar/,
    );
  });

  test("an unsupported storage dtype is named", () => {
    const text =
      "\x80\x02(X\x07\x00\x00\x00storagectorch\nComplexFloatStorage\nX\x01\x00\x00\x000" +
      "X\x03\x00\x00\x00cpuK\x01NtQ.";
    expect(() => load(text, torchPickleHooks(new Map()))).toThrow(
      /unsupported dtype torch\.ComplexFloatStorage.*not a supported PyTorch checkpoint/,
    );
  });

  test("a truncated pickle says so", () => {
    expect(() => load("\x80\x02X\x09\x00\x00\x00abc")).toThrow(/truncated/);
  });
});
