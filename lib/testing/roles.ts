import { urlForRole, type ServiceRole } from '../db/roles.js';

/**
 * The passwords the test run gives the services' roles (lib/testing/global-setup.ts), so tests run
 * each service as its own least-privileged role. Test-only values for a throwaway server.
 */
export const TEST_ROLE_PASSWORDS: Record<ServiceRole, string> = {
  processor: 'test-processor-password',
  api: 'test-api-password',
};

/** `url` (any test database) as the service's role: wsm_processor or wsm_api. */
export function roleUrl(url: string, service: ServiceRole): string {
  return urlForRole(url, service, TEST_ROLE_PASSWORDS[service]);
}
