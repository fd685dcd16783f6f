import { Type, type Static } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { FlotillaError, isoTime, type Principal } from "../kernel/index.js";
import type { Store, UserRow } from "../store/index.js";

const MemoryConfig = Type.Object(
  {
    enabled: Type.Boolean(),
    observe_enabled: Type.Boolean(),
    inject_user_core: Type.Boolean(),
    inject_semantic: Type.Boolean(),
    inject_episodic: Type.Boolean(),
    max_user_items: Type.Integer({ minimum: 0, maximum: 20 }),
    max_project_items: Type.Integer({ minimum: 0, maximum: 50 }),
    max_episodic_items: Type.Integer({ minimum: 0, maximum: 20 }),
    min_similarity: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);
const ProfileSettings = Type.Object(
  {
    base_style: Type.Union([Type.Literal("Concise"), Type.Literal("Friendly"), Type.Literal("Professional")]),
    custom_instructions: Type.String({ maxLength: 4000 }),
    nick_name: Type.String({ maxLength: 128 }),
    occupation: Type.String({ maxLength: 128 }),
    more_about_you: Type.String({ maxLength: 4000 }),
  },
  { additionalProperties: false },
);
const AdvancedSettings = Type.Object({ web_search: Type.Boolean(), code_enabled: Type.Boolean() }, { additionalProperties: false });

/** Seed 002's defaults (Jan's), for whatever a user has not set. */
const DEFAULTS = {
  memory_config: {
    enabled: true,
    observe_enabled: true,
    inject_user_core: true,
    inject_semantic: true,
    inject_episodic: false,
    max_user_items: 3,
    max_project_items: 5,
    max_episodic_items: 3,
    min_similarity: 0.75,
  } satisfies Static<typeof MemoryConfig>,
  profile_settings: { base_style: "Friendly", custom_instructions: "", nick_name: "", occupation: "", more_about_you: "" } satisfies Static<typeof ProfileSettings>,
  advanced_settings: { web_search: false, code_enabled: false } satisfies Static<typeof AdvancedSettings>,
  preferences: { enable_deep_research: false, enable_thinking: false, enable_search: true, enable_browser: false },
};
const Preferences = Type.Record(Type.String(), Type.Unknown());

/** What a user stores: every group optional, filled from the defaults when read. */
const StoredSettings = Type.Object({
  memory_config: Type.Optional(Type.Partial(MemoryConfig)),
  profile_settings: Type.Optional(Type.Partial(ProfileSettings)),
  advanced_settings: Type.Optional(Type.Partial(AdvancedSettings)),
  enable_trace: Type.Optional(Type.Boolean()),
  enable_tools: Type.Optional(Type.Boolean()),
  preferences: Type.Optional(Preferences),
});
type StoredSettings = Static<typeof StoredSettings>;

/** Seed 002's PATCH: a group sent replaces the stored group whole (fields left out take their defaults); preferences merge key by key. */
const SettingsPatch = Type.Object(
  {
    memory_config: Type.Optional(Type.Partial(MemoryConfig)),
    profile_settings: Type.Optional(Type.Partial(Type.Object({ ...ProfileSettings.properties, nickname: Type.String({ maxLength: 128 }) }))),
    advanced_settings: Type.Optional(Type.Partial(AdvancedSettings)),
    enable_trace: Type.Optional(Type.Boolean()),
    enable_tools: Type.Optional(Type.Boolean()),
    preferences: Type.Optional(Preferences),
  },
  { additionalProperties: false },
);

const SettingsView = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  memory_config: MemoryConfig,
  profile_settings: ProfileSettings,
  advanced_settings: AdvancedSettings,
  enable_trace: Type.Boolean(),
  enable_tools: Type.Boolean(),
  preferences: Preferences,
  created_at: Type.String(),
  updated_at: Type.String(),
});
const PreferencesBody = Type.Object({ preferences: Preferences }, { additionalProperties: false });

function stored(user: UserRow): StoredSettings {
  try {
    return JSON.parse(user.settings) as StoredSettings;
  } catch {
    return {};
  }
}

function settingsView(user: UserRow): Static<typeof SettingsView> {
  const s = stored(user);
  return {
    id: `set_${user.id.replace(/^usr_/, "")}`,
    user_id: user.id,
    memory_config: { ...DEFAULTS.memory_config, ...s.memory_config },
    profile_settings: { ...DEFAULTS.profile_settings, ...s.profile_settings },
    advanced_settings: { ...DEFAULTS.advanced_settings, ...s.advanced_settings },
    enable_trace: s.enable_trace ?? false,
    enable_tools: s.enable_tools ?? true,
    preferences: { ...DEFAULTS.preferences, ...s.preferences },
    created_at: isoTime(user.created_at),
    updated_at: isoTime(user.updated_at),
  };
}

function applyPatch(current: StoredSettings, patch: Static<typeof SettingsPatch>): StoredSettings {
  const next: StoredSettings = { ...current };
  if (patch.memory_config) next.memory_config = patch.memory_config;
  if (patch.profile_settings) {
    const { nickname, ...profile } = patch.profile_settings;
    next.profile_settings = { ...profile, ...(profile.nick_name === undefined && nickname !== undefined ? { nick_name: nickname } : {}) };
  }
  if (patch.advanced_settings) next.advanced_settings = patch.advanced_settings;
  if (patch.enable_trace !== undefined) next.enable_trace = patch.enable_trace;
  if (patch.enable_tools !== undefined) next.enable_tools = patch.enable_tools;
  if (patch.preferences) next.preferences = { ...current.preferences, ...patch.preferences };
  return next;
}

/** Seed 002's user settings, kept as one JSON document on the user. */
export function registerSettingsRoutes(app: FastifyInstance, store: Store): void {
  const tags = ["users"];
  const me = async (req: FastifyRequest): Promise<UserRow> => {
    const userId = (req.principal as Principal).userId;
    const user = userId ? await store.users.get(userId) : undefined;
    if (!user) throw new FlotillaError("invalid_request", "settings belong to a user, and this API key belongs to none");
    return user;
  };
  const save = async (user: UserRow, settings: StoredSettings) =>
    (await store.users.update(user.id, { settings: JSON.stringify(settings) }, Date.now())) as UserRow;

  app.get("/v1/users/me/settings", { schema: { summary: "The user's settings", tags, response: { 200: SettingsView } }, config: { auth: "user" } }, async function getSettings(req) {
    return settingsView(await me(req));
  });
  app.patch(
    "/v1/users/me/settings",
    { schema: { summary: "Change settings: a group sent replaces that group; preferences merge", tags, body: SettingsPatch, response: { 200: SettingsView } }, config: { auth: "user" } },
    async function patchSettings(req) {
      const user = await me(req);
      return settingsView(await save(user, applyPatch(stored(user), req.body as Static<typeof SettingsPatch>)));
    },
  );
  app.get("/v1/users/me/settings/preferences", { schema: { summary: "The user's preferences", tags, response: { 200: PreferencesBody } }, config: { auth: "user" } }, async function getPreferences(req) {
    return { preferences: settingsView(await me(req)).preferences };
  });
  app.patch(
    "/v1/users/me/settings/preferences",
    { schema: { summary: "Merge keys into the user's preferences", tags, body: PreferencesBody, response: { 200: PreferencesBody } }, config: { auth: "user" } },
    async function patchPreferences(req) {
      const user = await me(req);
      const { preferences } = req.body as Static<typeof PreferencesBody>;
      return { preferences: settingsView(await save(user, applyPatch(stored(user), { preferences }))).preferences };
    },
  );
}
