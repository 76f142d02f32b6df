import shared_util
import tinydep


def handler(event, context):
    return {
        "greeting": shared_util.greeting(event.get("name", "world")),
        "tinydep": tinydep.VERSION,
        "tinydep_file": tinydep.__file__,
    }
