import { Injectable } from '@nestjs/common';
import { PolicyService, type AuthzIdentity, type DecisionOptions } from 'nestjs-authz';

@Injectable()
export class RemotePolicyService extends PolicyService {
  private readonly baseUrl = 'https://policy.internal.example.com';

  async hasPermission(policy: string, identity: AuthzIdentity, permission: string, options?: DecisionOptions): Promise<boolean> {
    const body = JSON.stringify({ policy, subject: identity.subject, permission });
    // The guard aborts the signal at policyTimeoutMs, so slow calls do not pile up.
    const res = await fetch(`${this.baseUrl}/check`, { method: 'POST', body, signal: options?.signal });
    if (!res.ok) throw new Error(`policy server answered ${res.status}`); // the guard answers 503
    const answer = (await res.json()) as { allowed?: unknown };
    return answer.allowed === true;
  }
}
