# handlers/get_task.py — the seed tutorial's style, as most people deploy it: a boto3
# resource and Table at import time, one GetItem per request. The benchmark's baseline.
import json
import os

import boto3

dynamodb = boto3.resource('dynamodb')
table = dynamodb.Table(os.environ.get('TABLE_NAME', 'TaskApp'))


def handler(event, context):
    user_id = event['requestContext']['authorizer']['claims']['sub']
    task_id = event['pathParameters']['taskId']

    result = table.get_item(Key={'PK': f'USER#{user_id}', 'SK': f'TASK#{task_id}'})
    item = result.get('Item')
    if item is None:
        return {
            'statusCode': 404,
            'headers': {'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*'},
            'body': json.dumps({'message': 'Task not found'})
        }

    return {
        'statusCode': 200,
        'headers': {'Content-Type': 'application/json', 'Access-Control-Allow-Origin': '*'},
        'body': json.dumps(item, default=str)
    }
