import { isoTime, isoTimeOrNull } from "../kernel/index.js";
import { randomUUID } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import type { UserRow } from "../store/index.js";

export const Role = Type.Union([Type.Literal("admin"), Type.Literal("user"), Type.Literal("guest")]);
export const Username = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._@+-]+$" });
export const NewPassword = Type.String({ minLength: 8, maxLength: 256 });

export const UserView = Type.Object({
  id: Type.String(),
  username: Type.String(),
  display_name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  role: Role,
  created_at: Type.String(),
  last_login_at: Type.Union([Type.String(), Type.Null()]),
});

export function userView(user: UserRow): Static<typeof UserView> {
  return {
    id: user.id,
    username: user.username,
    display_name: user.display_name,
    email: user.email,
    role: user.role,
    created_at: isoTime(user.created_at),
    last_login_at: isoTimeOrNull(user.last_login_at),
  };
}

export function newUser(username: string, role: UserRow["role"], passwordHash: string | null, fields: { displayName?: string; email?: string } = {}): UserRow {
  const now = Date.now();
  return {
    id: `usr_${randomUUID().replace(/-/g, "")}`,
    username,
    display_name: fields.displayName ?? null,
    password_hash: passwordHash,
    role,
    created_at: now,
    updated_at: now,
    last_login_at: null,
    email: fields.email ?? null,
    settings: "{}",
  };
}

/** A user's keys act with the user's role; a guest's keys as a user's (keys are admin or user). */
export function keyRole(role: UserRow["role"]): "admin" | "user" {
  return role === "admin" ? "admin" : "user";
}
