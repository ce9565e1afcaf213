%%writefile bash_work/retrain.cron
# Writes the time as "hour minute" (2 30), but cron's first field is the minute.
2 30 * * * /opt/mlops/bin/retrain.sh >> /var/log/mlops/retrain.log 2>&1
*/15 8-18 * * 1-5 /opt/mlops/bin/check_drift.sh >> /var/log/mlops/drift.log 2>&1
