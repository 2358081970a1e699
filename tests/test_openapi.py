"""The API's description (OpenAPI) and Swagger UI are for the Admin only; everyone else is refused."""
import pytest


def test_the_admin_reads_the_openapi_document(api):
    answer = api("admin").get("/api/v1/_openapi")
    assert answer.status_code == 200
    paths = answer.get_json()["paths"]
    assert {"/api/v1/case/", "/api/v1/case/{pk}/transition", "/api/v1/report/board"} <= set(paths)


@pytest.mark.parametrize("username, status", [("staff", 403), ("officer", 403), ("lead", 403), ("governance", 403),
                                              (None, 401)])
def test_nobody_else_reads_it(api, username, status):
    assert api(username).get("/api/v1/_openapi").status_code == status


def test_swagger_ui_is_the_admins_and_served_from_the_app_itself(web):
    page = web("admin").get("/swagger/v1")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.get_data(as_text=True)
    assert "unpkg" not in page.get_data(as_text=True) and "cdn" not in page.get_data(as_text=True).lower()
    assert web("lead").get("/swagger/v1").status_code == 403
