import logging

import shared_util

logger = logging.getLogger()


def handler(event, context):
    logger.debug("debug is below the application log level")
    logger.info("info %s", shared_util.greeting("logs"))
    logger.warning("a warning")
    return "logged"
