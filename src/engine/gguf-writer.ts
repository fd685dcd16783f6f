import { open, rename } from "node:fs/promises";

/**
 * A minimal GGUF v3 writer: metadata and f32 tensors, which is all the tiny
 * model needs. Layout: header, metadata, tensor infos, padding, tensor data
 * (each tensor aligned).
 */

const enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

const GGML_TYPE_F32 = 0;

export type MetadataValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "string[]"; value: string[] }
  | { type: "i32[]"; value: number[] }
  | { type: "f32[]"; value: number[] };

export interface Tensor {
  name: string;
  /** ggml order: the fastest-moving dimension first. */
  dims: number[];
  data: Float32Array;
}

class ByteWriter {
  private chunks: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    this.chunks.push(buffer);
    this.length += buffer.length;
  }

  u32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(n);
    this.push(b);
  }

  i32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32LE(n);
    this.push(b);
  }

  u64(n: number): void {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64LE(BigInt(n));
    this.push(b);
  }

  f32(n: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeFloatLE(n);
    this.push(b);
  }

  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }

  padTo(alignment: number): void {
    const pad = (alignment - (this.length % alignment)) % alignment;
    if (pad) this.push(Buffer.alloc(pad));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

function writeValue(out: ByteWriter, value: MetadataValue): void {
  switch (value.type) {
    case "u32":
      out.u32(ValueType.UINT32);
      return out.u32(value.value);
    case "i32":
      out.u32(ValueType.INT32);
      return out.i32(value.value);
    case "f32":
      out.u32(ValueType.FLOAT32);
      return out.f32(value.value);
    case "bool":
      out.u32(ValueType.BOOL);
      return out.push(Buffer.from([value.value ? 1 : 0]));
    case "string":
      out.u32(ValueType.STRING);
      return out.string(value.value);
    case "string[]":
      out.u32(ValueType.ARRAY);
      out.u32(ValueType.STRING);
      out.u64(value.value.length);
      return value.value.forEach((s) => out.string(s));
    case "i32[]":
      out.u32(ValueType.ARRAY);
      out.u32(ValueType.INT32);
      out.u64(value.value.length);
      return value.value.forEach((n) => out.i32(n));
    case "f32[]":
      out.u32(ValueType.ARRAY);
      out.u32(ValueType.FLOAT32);
      out.u64(value.value.length);
      return value.value.forEach((n) => out.f32(n));
  }
}

/** Encodes a whole GGUF file; `general.alignment` in the metadata must equal `alignment`. */
export function encodeGguf(metadata: Array<[string, MetadataValue]>, tensors: Tensor[], alignment = 32): Buffer {
  const out = new ByteWriter();
  out.push(Buffer.from("GGUF", "ascii"));
  out.u32(3);
  out.u64(tensors.length);
  out.u64(metadata.length);
  for (const [key, value] of metadata) {
    out.string(key);
    writeValue(out, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    out.string(tensor.name);
    out.u32(tensor.dims.length);
    tensor.dims.forEach((d) => out.u64(d));
    out.u32(GGML_TYPE_F32);
    out.u64(offset);
    offset += Math.ceil((tensor.data.byteLength) / alignment) * alignment;
  }
  out.padTo(alignment);
  for (const tensor of tensors) {
    out.push(Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    out.padTo(alignment);
  }
  return out.toBuffer();
}

/** Writes next to the target, then renames: a reader never sees half a model. */
export async function writeFileAtomically(path: string, data: Buffer): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  const file = await open(temp, "w");
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
}
