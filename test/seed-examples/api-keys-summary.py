import os
import requests

api_key = os.environ["FREDDY_API_KEY"]
org_id = "org_abc123"

response = requests.get(
    f"https://api.aitronos.com/v1/analytics/api-keys/summary/{org_id}",
    params={"year": 2025, "month": 11},
    headers={"X-API-Key": api_key}
)

data = response.json()
print(f"Total API requests: {data['totalApiKeyRequests']}")
print(f"Total cost: {data['totalApiKeyCost']} CHF")
