import os
import requests

api_key = os.environ["FREDDY_API_KEY"]
org_id = "org_abc123"
api_key_id = "apikey_def456"

response = requests.get(
    f"https://api.aitronos.com/v1/analytics/api-keys/usage/{org_id}/{api_key_id}",
    params={"month": 11, "year": 2025},
    headers={"X-API-Key": api_key}
)

data = response.json()
print(f"Total requests: {data['usage']['totalRequests']}")
print(f"Total cost: CHF {data['usage']['totalCost']}")
