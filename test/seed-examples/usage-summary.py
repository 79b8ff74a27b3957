import os
import requests

api_key = os.environ["FREDDY_API_KEY"]
org_id = "org_abc123"

response = requests.get(
    f"https://api.aitronos.com/v1/analytics/usage/summary/{org_id}",
    headers={"X-API-Key": api_key}
)

data = response.json()
print(f"Total cost: {data['totalCost']} CHF")
print(f"Top model: {data['topModels'][0]['model']}")
