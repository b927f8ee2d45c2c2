"""civis-python style: find a project by name or create it, then share it with myself."""
import civis_dyn as civis

client = civis.APIClient()
me = client.users.get_me()
name = "Q3 churn analysis"
for attempt in range(2):  # the second pass finds the project the first one made
    project = civis.find_one(client.projects.list(iterator=True), name=name)
    if project is None:
        project = client.projects.post(name=name, description="Churn by segment")
        print(f"created project {project.id}")
    else:
        print(f"found project {project.id}")

shares = client.projects.put_shares_users(project.id, user_ids=[me.id], permission_level="write")
writers = [user.id for user in shares.writers.users]
print(f"shared with {client.username}: writers {writers}")
