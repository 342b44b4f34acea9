/** The two uses of Node's `Buffer` in contracts/hex.ts (hex of long byte strings), for the browser bundle. */
class HexBytes extends Uint8Array {
  override toString(encoding?: string): string {
    if (encoding !== 'hex') return super.toString();
    let out = '';
    for (const byte of this) out += byte.toString(16).padStart(2, '0');
    return out;
  }
}

export const Buffer = {
  from(source: ArrayBuffer | string, offsetOrEncoding?: number | string, length?: number): HexBytes {
    if (typeof source === 'string') {
      // Called with an already checked even-length hex body.
      const out = new HexBytes(source.length >> 1);
      for (let i = 0; i < out.length; i++) out[i] = parseInt(source.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
    return new HexBytes(source, typeof offsetOrEncoding === 'number' ? offsetOrEncoding : 0, length);
  },
};
