import { FlotillaError, type Sealer } from "../kernel/index.js";
import type { SettingRepo } from "../store/index.js";
import type { TelegramTarget } from "./notify-channels.js";

/** The fleet setting Telegram's settings are kept under; the token sealed. */
const SETTING = "notifications.telegram";

interface Stored {
  bot_token: string | null;
  chat_id: string | null;
  enabled: boolean;
}

export interface TelegramView {
  /** Whether a bot token is set: it is never shown again, only its last 4 characters. */
  hasBotToken: boolean;
  botTokenLast4: string | null;
  chatId: string | null;
  isEnabled: boolean;
}

/** A change: a field left out stays as it is; `null` clears the token or the chat. */
export interface TelegramChange {
  botToken?: string | null;
  chatId?: string | null;
  isEnabled?: boolean;
}

const NOTHING: Stored = { bot_token: null, chat_id: null, enabled: false };

/** The admin's Telegram settings, the same on every replica (the database's), the bot token sealed at rest. */
export class TelegramSettings {
  constructor(
    private readonly settings: SettingRepo,
    private readonly tokens: Sealer,
  ) {}

  async view(): Promise<TelegramView> {
    const stored = await this.stored();
    const token = stored.bot_token === null ? null : this.tokens.open(stored.bot_token);
    return { hasBotToken: token !== null, botTokenLast4: token === null ? null : token.slice(-4), chatId: stored.chat_id, isEnabled: stored.enabled };
  }

  async change(change: TelegramChange): Promise<TelegramView> {
    const stored = await this.stored();
    const next: Stored = {
      bot_token: change.botToken === undefined ? stored.bot_token : change.botToken === null ? null : this.tokens.seal(change.botToken),
      chat_id: change.chatId === undefined ? stored.chat_id : change.chatId,
      enabled: change.isEnabled ?? stored.enabled,
    };
    if (next.enabled && next.bot_token === null) throw new FlotillaError("invalid_request", "botToken is needed to turn Telegram on", { param: "botToken" });
    if (next.enabled && next.chat_id === null) throw new FlotillaError("invalid_request", "chatId is needed to turn Telegram on", { param: "chatId" });
    await this.settings.set(SETTING, next);
    return this.view();
  }

  /** The token and chat, when both are set; `enabledOnly`: only while Telegram is turned on. */
  async target(enabledOnly: boolean): Promise<TelegramTarget | undefined> {
    const stored = await this.stored();
    if (stored.bot_token === null || stored.chat_id === null || (enabledOnly && !stored.enabled)) return undefined;
    return { botToken: this.tokens.open(stored.bot_token), chatId: stored.chat_id };
  }

  private async stored(): Promise<Stored> {
    return ((await this.settings.get(SETTING)) as Stored | undefined) ?? NOTHING;
  }
}
