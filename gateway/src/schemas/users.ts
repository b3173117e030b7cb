import { Type, type Static } from 'typebox';
import { Email, GroupName, Password, RoleName, Username } from './common.js';

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    roles: Type.Array(Type.String()),
    groups: Type.Array(Type.String()),
    disabled: Type.Boolean(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

export const CreateUserBody = Type.Object(
  {
    username: Username,
    password: Password,
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    roles: Type.Optional(Type.Array(RoleName, { minItems: 1, uniqueItems: true })),
    groups: Type.Optional(Type.Array(GroupName, { uniqueItems: true, maxItems: 100 })),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    email: Type.Optional(Type.Union([Email, Type.Null()])),
    roles: Type.Optional(Type.Array(RoleName, { minItems: 1, uniqueItems: true })),
    groups: Type.Optional(Type.Array(GroupName, { uniqueItems: true, maxItems: 100 })),
    password: Type.Optional(Password),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;
