// Registers the compression codecs kafkajs lacks (it has gzip built in).
// All are pure JS or bundled wasm so `npm ci` needs no compiler or download:
//   snappy: kafkajs-snappy (on snappyjs; reads xerial framing, writes raw).
//   lz4:    our adapter below on lz4js's block coder. lz4js's own frame writer
//           links blocks through one hash table without saying so in the frame
//           flags, and Java's Kafka decoder decodes blocks independently, so we
//           write the LZ4 frame ourselves with independent 64 KiB blocks.
//   zstd:   @bokuweb/zstd-wasm (libzstd compiled to wasm, shipped in the package).
'use strict';
const { CompressionTypes, CompressionCodecs } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const lz4js = require('lz4js');
const xxh32 = require('lz4js/xxh32.js');
const zstd = require('@bokuweb/zstd-wasm');

const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG = 0x60; // version 01, independent blocks, no checksums or size
const LZ4_BD = 0x40; // max block size code 4 = 64 KiB
const LZ4_BLOCK = 64 * 1024;
const LZ4_UNCOMPRESSED = 0x80000000;

// One LZ4 frame (the format Kafka uses for codec 3, magic v1+ checksums).
function lz4CompressFrame(src) {
  const blockBound = LZ4_BLOCK + Math.ceil(LZ4_BLOCK / 255) + 16;
  const scratch = new Uint8Array(blockBound);
  const parts = [];
  const header = Buffer.alloc(7);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  header[4] = LZ4_FLG;
  header[5] = LZ4_BD;
  // Header checksum: second byte of xxh32 over the descriptor (FLG, BD).
  header[6] = (xxh32.hash(0, header, 4, 2) >>> 8) & 0xff;
  parts.push(header);
  for (let off = 0; off < src.length; off += LZ4_BLOCK) {
    const len = Math.min(LZ4_BLOCK, src.length - off);
    // A fresh table per block keeps every match inside the block.
    const table = new Uint32Array(1 << 16);
    const n = lz4js.compressBlock(src, scratch, off, len, table);
    const size = Buffer.alloc(4);
    if (n === 0 || n >= len) {
      size.writeUInt32LE((LZ4_UNCOMPRESSED | len) >>> 0, 0);
      parts.push(size, src.subarray(off, off + len));
    } else {
      size.writeUInt32LE(n, 0);
      parts.push(size, Buffer.from(scratch.subarray(0, n)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

const Lz4Codec = () => ({
  async compress(encoder) {
    return lz4CompressFrame(encoder.buffer);
  },
  async decompress(buffer) {
    // lz4js reads linked or independent blocks and skips checksums.
    const out = lz4js.decompress(buffer);
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  },
});

// Heap for frames that do not record their content size (streaming writers).
const ZSTD_UNKNOWN_SIZE_HEAP = 16 * 1024 * 1024;

const ZstdCodec = () => ({
  async compress(encoder) {
    const out = zstd.compress(encoder.buffer, 3);
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  },
  async decompress(buffer) {
    const out = zstd.decompress(buffer, { defaultHeapSize: ZSTD_UNKNOWN_SIZE_HEAP });
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  },
});

let ready = null;

// Loads the zstd wasm and installs the three codecs; safe to call repeatedly.
function registerCodecs() {
  if (!ready) {
    ready = zstd.init().then(() => {
      CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
      CompressionCodecs[CompressionTypes.LZ4] = Lz4Codec;
      CompressionCodecs[CompressionTypes.ZSTD] = ZstdCodec;
    });
  }
  return ready;
}

module.exports = { registerCodecs, lz4CompressFrame };
