/**
 * Example answers shown in the OpenAPI document, copied from the documentation that clients of
 * the Freddy Analytics API already code against, with the details this API adds.
 * test/openapi.test.ts checks each one against its route's response schema and against the
 * route's real answer, so an example cannot drift from the API.
 */

const notFound = {
  success: false,
  error: {
    code: 'API_KEY_NOT_FOUND',
    message: 'API key not found',
    system_message: 'API key not found',
    type: 'client_error',
    status: 404,
    details: { api_key_id: 'apikey_123' },
    trace_id: 'abc-123-def',
    timestamp: '2025-11-19T10:30:00Z',
  },
};

const unauthenticated = {
  success: false,
  error: {
    code: 'AUTHENTICATION_REQUIRED',
    message: 'Authentication required',
    system_message: 'No API key provided',
    type: 'client_error',
    status: 401,
    trace_id: 'abc-123-def',
    timestamp: '2025-11-15T10:30:00Z',
  },
};

const forbidden = {
  success: false,
  error: {
    code: 'ORGANIZATION_ACCESS_DENIED',
    message: 'Access denied to organization',
    system_message: "API key doesn't belong to organization",
    type: 'authorization_error',
    status: 403,
    details: { organization_id: 'org_456' },
    trace_id: 'def-456-ghi',
    timestamp: '2025-11-15T10:30:00Z',
  },
};

/** The route that addresses one API key answers another organization as the seeds show for it. */
const forbiddenKey = {
  success: false,
  error: {
    code: 'ORGANIZATION_ACCESS_DENIED',
    message: "You don't have permission to access this API key",
    system_message: 'Authorization error',
    type: 'client_error',
    status: 403,
    details: { api_key_id: 'apikey_123', organization_id: 'org_456' },
    trace_id: 'def-456-ghi',
    timestamp: '2025-11-19T10:30:00Z',
  },
};

const invalid = {
  success: false,
  error: {
    code: 'INVALID_REQUEST',
    message: 'Invalid query parameters',
    system_message: 'month must be <= 12',
    type: 'validation_error',
    status: 400,
    details: { errors: [{ field: 'month', reason: 'must be <= 12' }] },
    trace_id: 'ghi-789-jkl',
    timestamp: '2025-11-15T10:30:00Z',
  },
};

const internal = {
  success: false,
  error: {
    code: 'INTERNAL_ERROR',
    message: 'An unexpected error occurred',
    system_message: 'Internal server error',
    type: 'server_error',
    status: 500,
    trace_id: 'jkl-012-mno',
    timestamp: '2025-11-15T10:30:00Z',
  },
};

/** Method and route as registered → status → example body. */
export const RESPONSE_EXAMPLES: Record<string, Record<string, unknown>> = {
  'GET /v1/analytics/usage/summary/:org_id': {
    200: {
      organization_id: 'org_abc123',
      totalRequests: 150000,
      total_synapses: 75000000.0,
      totalNeurons: 1500000.0,
      totalCost: 37500.0,
      averageCostPerRequest: 0.25,
      topModels: [
        { model: 'gpt-4o', cost: 22500.0, requests: 90000, percentage: 60.0 },
        { model: 'gpt-4o-mini', cost: 7500.0, requests: 45000, percentage: 20.0 },
      ],
      currentMonth: { cost: 1250.75, requests: 5000 },
      timeRange: { start: '2024-01-01', end: '2025-11-15', period: 'all_time' },
    },
    401: unauthenticated,
    403: forbidden,
    500: internal,
  },
  'GET /v1/analytics/api-keys/summary/:org_id': {
    200: {
      organization_id: 'org_abc123',
      month: 11,
      year: 2025,
      totalApiKeyRequests: 25000,
      totalApiKeyCost: 6250.0,
      averageCostPerRequest: 0.25,
      total_synapses: 12500000.0,
      totalNeurons: 250000.0,
      generatedAt: '2025-11-15T10:30:00Z',
    },
    400: invalid,
    401: unauthenticated,
    403: forbidden,
    500: internal,
  },
  'GET /v1/analytics/api-keys/usage/:org_id/:api_key_id': {
    200: {
      apiKeyId: 'apikey_abc123',
      apiKeyName: 'Production Key',
      organizationId: 'org_123',
      month: 11,
      year: 2025,
      usage: {
        totalRequests: 1250,
        totalCost: 350.25,
        totalSynapses: 125000,
        totalNeurons: 2500000,
        averageCostPerRequest: 0.28,
      },
      limit: { monthlyLimit: 500.0, utilizationPercentage: 70.05, remainingBudget: 149.75, status: 'ok' },
    },
    401: unauthenticated,
    403: forbiddenKey,
    404: notFound,
    500: internal,
  },
};
