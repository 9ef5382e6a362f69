/** The authenticated user, as k8s.io/apiserver's user.Info. */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

const ALL_AUTHENTICATED = 'system:authenticated';

/** Adds system:authenticated, as the apiserver's authenticated-group adder does. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.name === 'system:anonymous' || u.groups.includes(ALL_AUTHENTICATED)) return u;
  return { ...u, groups: [...u.groups, ALL_AUTHENTICATED] };
}
