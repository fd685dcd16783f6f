import { encodeGguf, writeFileAtomically, type MetadataValue, type Tensor } from "./gguf-writer.js";

/**
 * The tiny model: a llama-architecture GGUF with random weights and a small
 * GPT-2 byte-level vocabulary, generated here because no model can be
 * downloaded. It loads, chats (its own chat template), completes and embeds
 * through llama.cpp like any real model; its answers are nonsense words.
 */

const EMBEDDING = 64;
const FEED_FORWARD = 128;
const BLOCKS = 2;
const HEADS = 4;
const CONTEXT = 512;
const WEIGHT_RANGE = 0.08;
const SEED = 0x5eed_f107;

const WORDS = (
  "the of and to in is was he for it with as his on be at by had are but from or have an they which one you were her all she there would " +
  "their we him been has when who will more no if out so said what up its about into than them can only other new some could time these " +
  "two may then do first any my now such like our over man me even most made after also did many before must through back years where much " +
  "your way well down should because each just those people how too little state good very make world still own see men work long get here " +
  "between both life being under never day same another know while last might us great old year off come since against go came right used " +
  "take three states himself few house use during without again place american around however home small found thought went say part once " +
  "general high upon school every don does got united left number course war until always away something fact though water less public put " +
  "think almost hand enough far took head yet government system better set told nothing night end why called eyes find going look asked " +
  "later knew point next program city business give group toward young days let room president side social given present several order " +
  "national possible rather second face per among form important often things looked early white case john become large big need four " +
  "within felt along children saw best church ever least power development light thing seemed family interest want members mind country " +
  "area others done turned although open problem sense service certain began different kind whole moment river boat harbor sail wind sea " +
  "ship fleet captain island shore wave storm cloud morning evening quiet bright green blue golden silver stone tree garden road bridge"
).split(" ");

const SPECIAL = { bos: "<|startoftext|>", eos: "<|endoftext|>", system: "<|system|>", user: "<|user|>", assistant: "<|assistant|>" };

/** A few merges, with the tokens they make, so the tokenizer has some to apply. */
const MERGES: Array<[string, string]> = [
  ["Ġ", "t"],
  ["h", "e"],
  ["i", "n"],
  ["e", "r"],
  ["a", "n"],
  ["o", "n"],
];

const CHAT_TEMPLATE =
  "{% for message in messages %}" +
  "{% if message['role'] == 'system' %}<|system|>{{ message['content'] }}" +
  "{% elif message['role'] == 'user' %}<|user|>{{ message['content'] }}" +
  "{% else %}<|assistant|>{{ message['content'] }}<|endoftext|>{% endif %}" +
  "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

const TOKEN_NORMAL = 1;
const TOKEN_CONTROL = 3;

/** GPT-2's byte-to-symbol table: printable bytes stand for themselves, the rest move above 255. */
function byteSymbols(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) symbols.push(String.fromCodePoint(printable(b) ? b : 256 + shifted++));
  return symbols;
}

/** mulberry32: a small seeded generator, so the same file comes out every time. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Vocabulary {
  tokens: string[];
  types: number[];
  words: Set<number>;
  favourite: number;
  eos: number;
  bos: number;
}

function vocabulary(): Vocabulary {
  const tokens = byteSymbols();
  const types = tokens.map(() => TOKEN_NORMAL);
  const add = (token: string, type = TOKEN_NORMAL) => {
    if (tokens.includes(token)) return tokens.indexOf(token);
    tokens.push(token);
    types.push(type);
    return tokens.length - 1;
  };
  for (const [a, b] of MERGES) add(a + b);
  const words = new Set(WORDS.map((w) => add(`Ġ${w}`)));
  // A few without the leading space, so an answer can start with a word.
  for (const w of ["The", "A", "It", "We", "In"]) words.add(add(w));
  const bos = add(SPECIAL.bos, TOKEN_CONTROL);
  const eos = add(SPECIAL.eos, TOKEN_CONTROL);
  for (const role of [SPECIAL.system, SPECIAL.user, SPECIAL.assistant]) add(role, TOKEN_CONTROL);
  return { tokens, types, words, favourite: tokens.indexOf("Ġsea"), eos, bos };
}

/**
 * Every embedding carries a large constant in dimension 0, so the last hidden
 * state is dominated by it, and output row t's dimension 0 acts as token t's
 * bias: words are favoured, raw bytes and role markers suppressed, and the end
 * token sits where sampled answers end after some tens of tokens.
 */
const BIAS = { word: 0.5, other: -0.6, eos: 0.55, favourite: 0.9 };
/** The end token's other dimensions are larger than a word's, so whether it wins depends on the context. */
const EOS_SPREAD = 0.3;

function tensors(vocab: Vocabulary, rand: () => number): Tensor[] {
  const uniform = (n: number, range = WEIGHT_RANGE) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * range);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const size = vocab.tokens.length;
  const embeddings = uniform(EMBEDDING * size);
  for (let t = 0; t < size; t++) embeddings[t * EMBEDDING] = 1;
  const output = uniform(EMBEDDING * size);
  for (let t = 0; t < size; t++) {
    output[t * EMBEDDING] = vocab.words.has(t) ? BIAS.word : BIAS.other;
  }
  // One word a little above the end token, so greedy decoding says something.
  output[vocab.favourite * EMBEDDING] = BIAS.favourite;
  for (let i = 1; i < EMBEDDING; i++) output[vocab.eos * EMBEDDING + i] = (rand() * 2 - 1) * EOS_SPREAD;
  output[vocab.eos * EMBEDDING] = BIAS.eos;

  const list: Tensor[] = [
    { name: "token_embd.weight", dims: [EMBEDDING, size], data: embeddings },
    { name: "output_norm.weight", dims: [EMBEDDING], data: ones(EMBEDDING) },
    { name: "output.weight", dims: [EMBEDDING, size], data: output },
  ];
  for (let n = 0; n < BLOCKS; n++) {
    list.push(
      { name: `blk.${n}.attn_norm.weight`, dims: [EMBEDDING], data: ones(EMBEDDING) },
      { name: `blk.${n}.attn_q.weight`, dims: [EMBEDDING, EMBEDDING], data: uniform(EMBEDDING * EMBEDDING) },
      { name: `blk.${n}.attn_k.weight`, dims: [EMBEDDING, EMBEDDING], data: uniform(EMBEDDING * EMBEDDING) },
      { name: `blk.${n}.attn_v.weight`, dims: [EMBEDDING, EMBEDDING], data: uniform(EMBEDDING * EMBEDDING) },
      { name: `blk.${n}.attn_output.weight`, dims: [EMBEDDING, EMBEDDING], data: uniform(EMBEDDING * EMBEDDING) },
      { name: `blk.${n}.ffn_norm.weight`, dims: [EMBEDDING], data: ones(EMBEDDING) },
      { name: `blk.${n}.ffn_gate.weight`, dims: [EMBEDDING, FEED_FORWARD], data: uniform(EMBEDDING * FEED_FORWARD) },
      { name: `blk.${n}.ffn_up.weight`, dims: [EMBEDDING, FEED_FORWARD], data: uniform(EMBEDDING * FEED_FORWARD) },
      { name: `blk.${n}.ffn_down.weight`, dims: [FEED_FORWARD, EMBEDDING], data: uniform(FEED_FORWARD * EMBEDDING) },
    );
  }
  return list;
}

/** The whole file, the same bytes every time. */
export function tinyModel(): Buffer {
  const vocab = vocabulary();
  const metadata: Array<[string, MetadataValue]> = [
    ["general.architecture", { type: "string", value: "llama" }],
    ["general.name", { type: "string", value: "flotilla-tiny (random weights)" }],
    ["general.alignment", { type: "u32", value: 32 }],
    ["general.file_type", { type: "u32", value: 0 }],
    ["llama.context_length", { type: "u32", value: CONTEXT }],
    ["llama.embedding_length", { type: "u32", value: EMBEDDING }],
    ["llama.block_count", { type: "u32", value: BLOCKS }],
    ["llama.feed_forward_length", { type: "u32", value: FEED_FORWARD }],
    ["llama.attention.head_count", { type: "u32", value: HEADS }],
    ["llama.attention.head_count_kv", { type: "u32", value: HEADS }],
    ["llama.attention.layer_norm_rms_epsilon", { type: "f32", value: 1e-5 }],
    ["llama.rope.dimension_count", { type: "u32", value: EMBEDDING / HEADS }],
    ["llama.rope.freq_base", { type: "f32", value: 10000 }],
    ["llama.vocab_size", { type: "u32", value: vocab.tokens.length }],
    ["tokenizer.ggml.model", { type: "string", value: "gpt2" }],
    ["tokenizer.ggml.pre", { type: "string", value: "default" }],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.merges", { type: "string[]", value: MERGES.map(([a, b]) => `${a} ${b}`) }],
    ["tokenizer.ggml.bos_token_id", { type: "u32", value: vocab.bos }],
    ["tokenizer.ggml.eos_token_id", { type: "u32", value: vocab.eos }],
    ["tokenizer.ggml.padding_token_id", { type: "u32", value: vocab.eos }],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    ["tokenizer.ggml.add_eos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", { type: "string", value: CHAT_TEMPLATE }],
  ];
  return encodeGguf(metadata, tensors(vocab, random(SEED)));
}

export async function writeTinyModel(path: string): Promise<void> {
  await writeFileAtomically(path, tinyModel());
}
