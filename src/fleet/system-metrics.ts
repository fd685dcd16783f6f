import { Type, type Static } from "@sinclair/typebox";

/** What a worker reports of its machine, when it can. */
export const SystemMetrics = Type.Object(
  {
    cpu: Type.Optional(Type.Object({ cores: Type.Integer({ minimum: 0 }), load_1m: Type.Number() })),
    memory: Type.Optional(Type.Object({ total_bytes: Type.Number({ minimum: 0 }), free_bytes: Type.Number({ minimum: 0 }) })),
    /** The disk models are kept on, where known. */
    disk: Type.Optional(Type.Object({ total_bytes: Type.Number({ minimum: 0 }), free_bytes: Type.Number({ minimum: 0 }) })),
    gpus: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          memory_total_bytes: Type.Number({ minimum: 0 }),
          memory_used_bytes: Type.Number({ minimum: 0 }),
          utilization_percent: Type.Number({ minimum: 0 }),
        }),
      ),
    ),
  },
  { additionalProperties: true },
);
export type SystemMetrics = Static<typeof SystemMetrics>;
